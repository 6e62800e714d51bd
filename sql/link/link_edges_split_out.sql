-- link_edges_split_out: one row per model link (pair of records) that link_splits takes
-- out of an implausible cluster: below the strong probability, or any model link of a
-- cluster holding two identifiers of one system or a pair a person rejected. Read by
-- link_edges_final (the links kept), review_queue (the links to review) and the report.
with final as (
    select e.record_id_l, e.record_id_r
    from link_edges_draft as e
    join link_cluster_draft as c on c.record_id = e.record_id_l
    join link_splits as s using (cluster_id)
    where e.method = 'probabilistic' and (s.drop_strong or e.score < $strong_probability)
)

select * from final
