-- stg_attachments: one row per staged attachment of a family to the programme.
with checked as (
    select * from checked_attachments
),

final as (
    select
        source_row,
        family_id,
        cast(attached_date as date) as attached_date,
        cast(closed_date as date) as closed_date
    from checked
)

select * from final
