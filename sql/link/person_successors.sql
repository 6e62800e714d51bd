-- person_successors: one row per person of the previous run ($previous_run_id) with the
-- cluster of this run its id passes to (successor_cluster_id, null when none shares any
-- evidence: person_overlaps.sql). The successor is the cluster holding most of the
-- person's records, so a split passes the id to its larger part; a person none of whose
-- records is left passes it to the cluster whose identifiers are most alike (shared /
-- of either), then sharing most. Ties go to the cluster first in anchor order. A cluster
-- succeeding several people (their records now link: a merge) keeps one id:
-- person_ids.sql.
with previous_persons as (
    select person_id, n_records as n_previous_records
    from main.persons_history
    where run_id = $previous_run_id
),

ranked as (
    select
        o.*,
        count(*) filter (where o.n_shared_records > 0) over (partition by o.person_id)
            as n_parts,
        row_number() over (partition by o.person_id
            order by o.n_shared_records desc, o.key_overlap desc, o.n_shared_keys desc,
                a.anchor, o.cluster_id)
            as rank_for_person
    from person_overlaps as o
    join person_anchors as a using (cluster_id)
),

final as (
    select
        p.person_id,
        r.cluster_id as successor_cluster_id,
        p.n_previous_records,
        coalesce(r.n_shared_records, 0) as n_shared_records,
        coalesce(r.n_shared_keys, 0) as n_shared_keys,
        coalesce(r.n_parts, 0) as n_parts
    from previous_persons as p
    left join ranked as r on r.person_id = p.person_id and r.rank_for_person = 1
)

select * from final
