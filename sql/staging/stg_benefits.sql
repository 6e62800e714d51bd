-- stg_benefits: one row per staged benefit claim. Renames and casts only.
-- The person columns (forename … uprn) pass through, the date of birth cast to a date.
with checked as (
    select * from checked_benefits
),

final as (
    select
        * exclude (claim_start, claim_end)
            replace (cast(date_of_birth as date) as date_of_birth, upper(gender) as gender),
        cast(claim_start as date) as claim_start_date,
        cast(claim_end as date) as claim_end_date
    from checked
)

select * from final
