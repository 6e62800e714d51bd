-- stg_local_indicators: one row per staged indicator record. Renames and casts only.
with checked as (
    select * from checked_local_indicators
),

final as (
    select
        source_row,
        source_ref,
        indicator,
        cast(recorded_date as date) as recorded_date,
        upn,
        is_upn_valid,
        nino,
        police_ref,
        asb_ref,
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
