-- persons: one row per linked person with their best-known identity (link step:
-- person_identities) and current address (person_addresses), in the published shape.
with final as (
    select
        i.person_id,
        i.forename,
        i.surname,
        i.date_of_birth,
        i.gender,
        i.age,
        a.address,
        a.postcode,
        a.uprn,
        a.household_key,
        a.address_date,
        i.n_records,
        i.upn,
        i.nino,
        i.police_ref,
        i.asb_ref
    from person_identities as i
    left join person_addresses as a using (person_id)
)

select * from final
