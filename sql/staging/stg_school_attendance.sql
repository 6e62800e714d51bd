-- stg_school_attendance: one row per staged pupil-term record. Renames and casts only.
with checked as (
    select * from checked_school_attendance
),

final as (
    select
        source_row,
        upn,
        is_upn_valid,
        school_urn,
        academic_year,
        term,
        cast(sessions_possible as integer) as sessions_possible,
        cast(sessions_authorised_absence as integer) as sessions_authorised_absence,
        cast(sessions_unauthorised_absence as integer) as sessions_unauthorised_absence,
        coalesce(provision, 'mainstream') as provision,
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
