-- stg_gazetteer: one row per staged property of the council's gazetteer (LLPG). Its
-- grid point (easting, northing: British National Grid metres) only where both are given.
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
        cast(imd_decile as integer) as imd_decile,
        case when northing is not null then cast(easting as double) end as easting,
        case when easting is not null then cast(northing as double) end as northing
    from checked
)

select * from final
