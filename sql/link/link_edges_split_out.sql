-- link_edges_split_out: one row per model link (pair of records) that link_splits takes
-- out of an implausible cluster: every model link of a cluster holding two identifiers
-- of one system or a pair a person rejected; in a cluster split for its dates of birth
-- alone, the weak links that would join conflicting dates (link_dob_split_out, from
-- pipelines.link.keep_compatible). Read by link_edges_final (the links kept),
-- review_queue (the links to review) and the report.
with all_model_links as (
    select e.record_id_l, e.record_id_r
    from link_edges_draft as e
    join link_cluster_draft as c on c.record_id = e.record_id_l
    join link_splits as s using (cluster_id)
    where e.method = 'probabilistic' and s.drop_strong
),

final as (
    select * from all_model_links
    union all
    select record_id_l, record_id_r from link_dob_split_out
)

select * from final
