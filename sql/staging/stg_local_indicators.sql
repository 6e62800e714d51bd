-- stg_local_indicators: one row per staged indicator record. Renames and casts only.
-- The person columns (forename … uprn) pass through, the date of birth cast to a date.
with checked as (
    select * from checked_local_indicators
),

final as (
    select
        * exclude (recorded_date)
            replace (cast(date_of_birth as date) as date_of_birth, upper(gender) as gender),
        cast(recorded_date as date) as recorded_date
    from checked
)

select * from final
