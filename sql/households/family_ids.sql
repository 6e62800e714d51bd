-- family_ids: one row per household (people sharing a current address) with its family_id
-- and how it came by it (event: carried, split or new; family_lineage.sql gives reasons).
-- A household keeps the id of the previous run's family it succeeds
-- (family_successors.sql); succeeding several (families now living together: a merge), it
-- keeps the oldest id, the lowest number, and the others are merged into it. Every other
-- household gets the next free number in household key order, so the same inputs give the
-- same ids and no id passes to another family; one holding members of a family whose id
-- stayed with another household is split from it (other_family_id).
with sizes as (
    select household_key from persons where household_key is not null group by household_key
),

predecessors as (
    select
        successor_household_key as household_key,
        family_id,
        row_number() over (partition by successor_household_key
            order by cast(substr(family_id, 2) as bigint)) as rank_for_household,
        count(*) over (partition by successor_household_key) as n_predecessors
    from family_successors
    where successor_household_key is not null
),

kept as (
    select household_key, family_id, n_predecessors - 1 as n_merged
    from predecessors
    where rank_for_household = 1
),

split_from as (
    -- the family most of whose members the household holds, among those whose id lives on
    -- in another household
    select o.household_key,
        first(o.family_id order by o.n_shared_members desc, o.family_id) as family_id
    from family_overlaps as o
    join family_successors as s using (family_id)
    anti join kept as k on k.household_key = o.household_key
    where s.successor_household_key is not null
    group by o.household_key
),

fresh as (
    select
        s.household_key,
        -- at least 6 digits, more once numbers pass them (lpad would cut them short)
        'F' || printf('%06d',
            $next_family_number + row_number() over (order by s.household_key) - 1) as family_id
    from sizes as s
    anti join kept as k using (household_key)
),

final as (
    select household_key, family_id, 'carried' as event, null as other_family_id,
        cast(n_merged as integer) as n_merged
    from kept
    union all
    select f.household_key, f.family_id, if(s.family_id is null, 'new', 'split'),
        s.family_id, 0
    from fresh as f
    left join split_from as s using (household_key)
)

select * from final
