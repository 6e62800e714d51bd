-- family_lineage: one row per family id this run gives or ends, against the previous run
-- ($previous_run_id): carried (kept), new, split (a new id for members who moved from
-- other_family_id, whose larger part kept its id), merged (ended: its members now live
-- with other_family_id's, the oldest id of the merge) or retired (ended: no household
-- holds substantially the same members). reason says why in words; counts are of members.
with sizes as (
    select household_key, count(*) as members
    from persons
    where household_key is not null
    group by household_key
),

current_ids as (
    select
        i.family_id,
        i.event,
        i.other_family_id,
        case
            when i.event = 'split'
                then 'members moved from another family, whose id stayed with its larger part'
            when i.event = 'new' and cast($previous_run_id as varchar) is null then 'first run'
            when i.event = 'new' then 'no family of the previous run is substantially the same'
            when i.n_merged > 0 then 'families now living together; the oldest id kept'
            when s.n_parts > 1 then 'members moved apart; the larger part kept the id'
            when s.n_shared_members = s.n_previous_members and s.n_shared_members = z.members
                then 'the same members'
            else 'members came or went; substantially the same'
        end as reason,
        cast(z.members as integer) as members,
        s.n_previous_members,
        s.n_shared_members
    from family_ids as i
    join sizes as z using (household_key)
    left join family_successors as s using (family_id)  -- a new id is none of them
),

ended as (
    select
        s.family_id,
        if(i.family_id is null, 'retired', 'merged') as event,
        i.family_id as other_family_id,
        case
            when i.family_id is not null then 'its members now live with an older family'
            when s.n_parts = 0 then 'none of its members in this run'
            else 'no household holds substantially the same members'
        end as reason,
        0 as members,
        s.n_previous_members,
        s.n_shared_members
    from family_successors as s
    left join family_ids as i on i.household_key = s.successor_household_key
    anti join family_ids as kept on kept.family_id = s.family_id
),

final as (
    select *, cast($previous_run_id as varchar) as previous_run_id
    from (select * from current_ids union all select * from ended)
)

select * from final
