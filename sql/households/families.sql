-- families: one row per household on the as-of date, with its address and area.
-- The address shown is the gazetteer's where the household has a UPRN, else the one its
-- most recently seen member gave; ward, LSOA and deprivation come from the gazetteer.
with member_addresses as (
    select
        f.family_id,
        f.household_key,
        first(p.address order by p.address_date desc, p.person_id) as address,
        first(p.postcode order by p.address_date desc, p.person_id) as postcode,
        first(p.uprn order by p.address_date desc, p.person_id) as uprn
    from family_ids as f
    join persons as p using (household_key)
    group by f.family_id, f.household_key
),

counts as (
    select
        family_id,
        cast(count(*) as integer) as members,
        cast(count(*) filter (where role = 'child') as integer) as children,
        cast(count(*) filter (where role = 'adult') as integer) as adults
    from family_members
    group by family_id
),

gazetteer as (
    select uprn, first(address order by source_row) as address,
        first(postcode order by source_row) as postcode, first(ward order by source_row) as ward,
        first(lsoa order by source_row) as lsoa,
        first(imd_decile order by source_row) as imd_decile
    from stg_gazetteer
    group by uprn
),

final as (
    select
        m.family_id,
        m.household_key,
        m.uprn,
        coalesce(g.address, m.address) as address,
        coalesce(g.postcode, m.postcode) as postcode,
        g.ward,
        g.lsoa,
        g.imd_decile,
        c.members,
        c.children,
        c.adults
    from member_addresses as m
    join counts as c using (family_id)
    left join gazetteer as g using (uprn)
)

select * from final
