-- person_lineage: one row per person id this run gives or ends, against the previous
-- run ($previous_run_id): carried (kept), new, split (a new id for records split from
-- other_person_id, whose larger part kept its id), merged (ended: its records now link
-- with other_person_id's, the oldest id of the merge) or retired (ended: none of its
-- records or identifiers is in this run). reason says why in words; the counts are of
-- source records. How ids are passed on: person_successors.sql and person_ids.sql.
with sizes as (
    select cluster_id, count(*) as n_records from link_clusters group by cluster_id
),

current_ids as (
    select
        i.person_id,
        i.event,
        i.other_person_id,
        case
            when i.event = 'split'
                then 'some of its records split off from another person; the larger part kept that id'
            when i.event = 'new' and cast($previous_run_id as varchar) is null then 'first run'
            when i.event = 'new' then 'records not in the previous run'
            when i.n_merged > 0
                then 'its records now link with those of other ids; the oldest id kept'
            when s.n_parts > 1 then 'its records split; the larger part kept the id'
            when s.n_shared_records = s.n_previous_records and s.n_shared_records = z.n_records
                then 'the same records'
            when s.n_shared_records > 0 then 'records came or went; the rest link the same'
            else 'its records changed; the same identifier or name and date of birth'
        end as reason,
        cast(z.n_records as integer) as n_records,
        s.n_previous_records,
        s.n_shared_records
    from person_ids as i
    join sizes as z using (cluster_id)
    left join person_successors as s using (person_id)  -- a new id is none of them
),

ended as (
    select
        s.person_id,
        if(i.person_id is null, 'retired', 'merged') as event,
        i.person_id as other_person_id,
        case
            when i.person_id is null then 'none of its records or identifiers in this run'
            when s.n_shared_records > 0 then 'its records now link with those of an older id'
            else 'its records changed; its identifiers are now with another id'
        end as reason,
        0 as n_records,
        s.n_previous_records,
        s.n_shared_records
    from person_successors as s
    left join person_ids as i on i.cluster_id = s.successor_cluster_id
    anti join person_ids as kept on kept.person_id = s.person_id
),

final as (
    select *, cast($previous_run_id as varchar) as previous_run_id
    from (select * from current_ids union all select * from ended)
)

select * from final
