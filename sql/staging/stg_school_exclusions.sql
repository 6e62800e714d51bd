-- stg_school_exclusions: one row per staged exclusion; fixed-term synonyms become 'suspension'.
with checked as (
    select * from checked_school_exclusions
),

final as (
    select
        source_row,
        upn,
        is_upn_valid,
        school_urn,
        case when category in ('fixed', 'fixed_term') then 'suspension' else category end
            as category,
        cast(start_date as date) as start_date,
        cast(sessions as integer) as sessions
    from checked
)

select * from final
