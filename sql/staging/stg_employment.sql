-- stg_employment: one row per staged work spell. Renames and casts only.
with checked as (
    select * from checked_employment
),

final as (
    select
        source_row,
        nino,
        kind,
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date
    from checked
)

select * from final
