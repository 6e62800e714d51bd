-- stg_school_attendance: one row per staged pupil-term record. Renames and casts only.
-- The person columns (forename … uprn) pass through, the date of birth cast to a date.
with checked as (
    select * from checked_school_attendance
),

final as (
    select
        * exclude (sessions_possible, sessions_authorised_absence, sessions_unauthorised_absence, provision)
            replace (cast(date_of_birth as date) as date_of_birth, upper(gender) as gender),
        cast(sessions_possible as integer) as sessions_possible,
        cast(sessions_authorised_absence as integer) as sessions_authorised_absence,
        cast(sessions_unauthorised_absence as integer) as sessions_unauthorised_absence,
        coalesce(provision, 'mainstream') as provision
    from checked
)

select * from final
