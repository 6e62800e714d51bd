-- link_edges_final: one row per pair of records whose link is kept: the draft
-- edges less the model links that link_splits takes out of implausible clusters.
with final as (
    select e.*
    from link_edges_draft as e
    anti join link_edges_split_out as d using (record_id_l, record_id_r)
)

select * from final
