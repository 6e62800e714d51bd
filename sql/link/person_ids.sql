-- person_ids: one row per linked person (a cluster of records) with its person_id and how
-- it came by it (event: carried, split or new; person_lineage.sql gives the reasons).
-- A cluster keeps the id of the previous run's person it succeeds (person_successors.sql).
-- Succeeding several (their records now link: a merge), it keeps the oldest id, the lowest
-- number, among those whose records it holds, and the others are merged into it. Every
-- other cluster gets the next free number, in anchor order, so the same inputs always give
-- the same ids and no id ever passes to a second person; one holding records of a person
-- whose id went to a larger part is split from that person (other_person_id).
with predecessors as (
    select
        successor_cluster_id as cluster_id,
        person_id,
        row_number() over (partition by successor_cluster_id
            order by n_shared_records > 0 desc, cast(substr(person_id, 2) as bigint))
            as rank_for_cluster,
        count(*) over (partition by successor_cluster_id) as n_predecessors
    from person_successors
    where successor_cluster_id is not null
),

kept as (
    select cluster_id, person_id, n_predecessors - 1 as n_merged
    from predecessors
    where rank_for_cluster = 1
),

split_from as (
    -- the person most of whose records the cluster holds, among those it does not succeed
    select o.cluster_id,
        first(o.person_id order by o.n_shared_records desc, o.person_id) as person_id
    from person_overlaps as o
    anti join kept as k using (cluster_id)
    where o.n_shared_records > 0
    group by o.cluster_id
),

fresh as (
    select
        a.cluster_id,
        -- at least 7 digits, more once numbers pass them (lpad would cut them short)
        'P' || printf('%07d',
            $next_person_number + row_number() over (order by a.anchor, a.cluster_id) - 1)
            as person_id
    from person_anchors as a
    anti join kept as k using (cluster_id)
),

final as (
    select cluster_id, person_id, 'carried' as event, null as other_person_id,
        cast(n_merged as integer) as n_merged
    from kept
    union all
    select f.cluster_id, f.person_id, if(s.person_id is null, 'new', 'split'), s.person_id, 0
    from fresh as f
    left join split_from as s using (cluster_id)
)

select * from final
