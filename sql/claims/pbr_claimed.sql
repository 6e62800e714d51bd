-- pbr_claimed: one row per (attached family, result) the claims history already has: a
-- result is claimed once, for the family under any id it has had. A family's ids are its
-- own and those its lineage joins it to in any run (family_lineage: an id merged into it
-- or it into another, a part split from it or it from another), so a claim made before a
-- merge or a split still counts.
with recursive edges as (
    select family_id as id, other_family_id as other_id
    from main.family_lineage_history
    where event in ('merged', 'split')
),

related as (
    -- (attached family, an id of it), across merges and splits either way
    select family_id, family_id as id from pbr_attachments
    union
    select r.family_id, if(e.id = r.id, e.other_id, e.id)
    from related as r
    join edges as e on r.id in (e.id, e.other_id)
),

final as (
    select r.family_id, h.result, min(h.claimed_date) as claimed_date,
        min(h.source_row) as source_row
    from related as r
    join stg_claims_history as h on h.family_id = r.id
    group by r.family_id, h.result
)

select * from final
