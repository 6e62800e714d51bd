-- stg_asb: one row per staged ASB incident or intervention. Intervention types lower-cased.
-- The person columns (forename … uprn) pass through, the date of birth cast to a date.
with checked as (
    select * from checked_asb
),

final as (
    select
        * exclude ("date", "type")
            replace (cast(date_of_birth as date) as date_of_birth, upper(gender) as gender),
        cast("date" as date) as asb_date,
        case when record_type = 'intervention' then lower("type") else "type" end as asb_type
    from checked
)

select * from final
