-- link_edges_draft: one row per pair of records (smaller record id on the left, as in
-- link_edges and link_candidates) joined by any kept evidence:
-- the deterministic passes (score 1), the model's linked pairs (their probability) and
-- pairs a person confirmed (method reviewer, score 1). Clusters of these are checked for
-- chaining in link_splits before they become persons.
with deterministic as (
    select record_id_l, record_id_r, method, 1.0 as score from link_edges
),

scored as (
    select
        unique_id_l as record_id_l,
        unique_id_r as record_id_r,
        case band when 'confirmed' then 'reviewer' else 'probabilistic' end as method,
        case band when 'confirmed' then 1.0 else match_probability end as score
    from link_candidates
    where band in ('linked', 'confirmed')
),

final as (
    select * from deterministic
    union all
    select * from scored
)

select * from final
