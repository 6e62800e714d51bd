-- family_overlaps: one row per (household of this run, family of the previous run
-- $previous_run_id) sharing members: how many, and the share of either's members they are
-- (shared / members of either, Jaccard). Previous members are followed to their ids of this
-- run (person_lineage: kept, or merged into another id), so a merged person still counts.
with members as (
    select household_key, person_id from persons where household_key is not null
),

sizes as (
    select household_key, count(*) as n_members from members group by household_key
),

previous as (
    select m.family_id, m.person_id
    from main.family_members_history as m
    where m.run_id = $previous_run_id
),

previous_sizes as (
    select family_id, count(*) as n_previous_members from previous group by family_id
),

followed as (
    -- each previous member's id in this run, if they are in it
    select distinct p.family_id,
        if(l.event = 'merged', l.other_person_id, l.person_id) as person_id
    from previous as p
    join person_lineage as l on l.person_id = p.person_id
    where l.event in ('carried', 'merged')
),

shared_members as (
    select m.household_key, f.family_id, count(*) as n_shared_members
    from members as m
    join followed as f using (person_id)
    group by m.household_key, f.family_id
),

final as (
    select
        o.household_key,
        o.family_id,
        cast(o.n_shared_members as integer) as n_shared_members,
        cast(ps.n_previous_members as integer) as n_previous_members,
        o.n_shared_members / (s.n_members + ps.n_previous_members - o.n_shared_members)
            as overlap
    from shared_members as o
    join sizes as s using (household_key)
    join previous_sizes as ps using (family_id)
)

select * from final
