-- stg_police_offences: one row per staged offence outcome. Renames and casts only.
with checked as (
    select * from checked_police_offences
),

final as (
    select
        source_row,
        police_ref,
        cast(offence_date as date) as offence_date,
        cast(disposal_date as date) as disposal_date,
        disposal,
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
