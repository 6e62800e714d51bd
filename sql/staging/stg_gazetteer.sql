-- stg_gazetteer: one row per staged property of the council's gazetteer (LLPG).
with checked as (
    select * from checked_gazetteer
),

final as (
    select
        source_row,
        uprn,
        address,
        postcode,
        ward,
        lsoa,
        cast(imd_decile as integer) as imd_decile
    from checked
)

select * from final
