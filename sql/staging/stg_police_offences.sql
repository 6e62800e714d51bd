-- stg_police_offences: one row per staged offence outcome. Renames and casts only.
-- The person columns (forename … uprn) pass through, the date of birth cast to a date.
with checked as (
    select * from checked_police_offences
),

final as (
    select
        * exclude (offence_date, disposal_date)
            replace (cast(date_of_birth as date) as date_of_birth, upper(gender) as gender),
        cast(offence_date as date) as offence_date,
        cast(disposal_date as date) as disposal_date
    from checked
)

select * from final
