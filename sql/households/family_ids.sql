-- family_ids: one row per household (people sharing a current address) with its family_id.
-- A household keeps the previous run's family_id when its membership is substantially the
-- same: shared members / all members of either (Jaccard) at least $min_family_overlap,
-- best overlap first, each old id to one household only. Others get the next free number.
with members as (
    select household_key, person_id from persons where household_key is not null
),

sizes as (
    select household_key, count(*) as n_members from members group by household_key
),

previous as (
    select family_id, person_id from main.family_members_history where run_id = $previous_run_id
),

previous_sizes as (
    select family_id, count(*) as n_previous from previous group by family_id
),

shared_members as (
    select m.household_key, p.family_id, count(*) as n_shared
    from members as m
    join previous as p using (person_id)
    group by m.household_key, p.family_id
),

candidates as (
    select
        o.household_key,
        o.family_id,
        o.n_shared / (s.n_members + ps.n_previous - o.n_shared) as overlap
    from shared_members as o
    join sizes as s using (household_key)
    join previous_sizes as ps using (family_id)
    where o.n_shared / (s.n_members + ps.n_previous - o.n_shared) >= $min_family_overlap
),

ranked as (
    select
        *,
        row_number() over (partition by household_key order by overlap desc, family_id)
            as rank_for_household,
        row_number() over (partition by family_id order by overlap desc, household_key)
            as rank_for_family
    from candidates
),

inherited as (
    select household_key, family_id from ranked
    where rank_for_household = 1 and rank_for_family = 1
),

fresh as (
    select
        s.household_key,
        -- at least 6 digits, more once numbers pass them (lpad would cut them short)
        'F' || printf('%06d',
            $next_family_number + row_number() over (order by s.household_key) - 1) as family_id
    from sizes as s
    anti join inherited as i using (household_key)
),

final as (
    select household_key, family_id from inherited
    union all
    select household_key, family_id from fresh
)

select * from final
