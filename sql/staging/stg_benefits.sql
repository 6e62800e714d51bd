-- stg_benefits: one row per staged benefit claim. Renames and casts only.
with checked as (
    select * from checked_benefits
),

final as (
    select
        source_row,
        nino,
        benefit,
        cast(claim_start as date) as claim_start_date,
        cast(claim_end as date) as claim_end_date,
        forename,
        surname,
        cast(date_of_birth as date) as date_of_birth,
        upper(gender) as gender,
        address,
        postcode,
        uprn
    from checked
)

select * from final
