-- link_edges_final: one row per pair of records whose link is kept: the draft
-- edges less the model links that link_splits takes out of implausible clusters.
with dropped as (
    select e.record_id_l, e.record_id_r
    from link_edges_draft as e
    join link_cluster_draft as c on c.record_id = e.record_id_l
    join link_splits as s using (cluster_id)
    where e.method = 'probabilistic' and (s.drop_strong or e.score < $strong_probability)
),

final as (
    select e.*
    from link_edges_draft as e
    anti join dropped as d using (record_id_l, record_id_r)
)

select * from final
