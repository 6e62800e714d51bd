-- stg_claims_history: one row per staged result already claimed.
with checked as (
    select * from checked_claims_history
),

final as (
    select
        source_row,
        family_id,
        result,
        cast(claimed_date as date) as claimed_date
    from checked
)

select * from final
