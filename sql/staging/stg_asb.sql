-- stg_asb: one row per staged ASB incident or intervention. Intervention types lower-cased.
with checked as (
    select * from checked_asb
),

final as (
    select
        source_row,
        asb_ref,
        record_type,
        cast("date" as date) as asb_date,
        case when record_type = 'intervention' then lower("type") else "type" end as asb_type,
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
