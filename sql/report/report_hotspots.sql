-- report_hotspots: one row per hexagonal cell of the hotspot map that holds a household
-- screened, located by its property's grid point in the gazetteer (easting, northing). A
-- cell of fewer than $min_households households screened carries no counts (is_shown
-- false): the map then says only that some households are there, so no cell can single
-- out a household or a family. Cells are regular hexagons `width` metres across (the
-- area's longer side over $cells_across, rounded up to 50 m, at least 100 m), centred on
-- the two offset lattices of matplotlib's hexbin; each point goes to the nearer centre.
-- Households without a grid point (no UPRN, or a gazetteer without coordinates) are not
-- in any cell.
with located as (
    select g.easting, g.northing, c.family_id is not null as in_cohort
    from families as f
    join (
        select uprn, first(easting order by source_row) as easting,
            first(northing order by source_row) as northing
        from stg_gazetteer
        where easting is not null
        group by uprn
    ) as g using (uprn)
    left join cohort as c using (family_id)
),

grid as (
    select greatest(100, ceil(greatest(max(easting) - min(easting),
        max(northing) - min(northing)) / $cells_across / 50) * 50) as width
    from located
),

scaled as (
    -- lattice units: one cell across, sqrt(3) cells between rows of one lattice
    select l.in_cohort, g.width, l.easting / g.width as u,
        l.northing / (g.width * sqrt(3)) as v
    from located as l, grid as g
),

cells as (
    select
        in_cohort,
        width,
        case when (u - round(u)) ^ 2 + 3 * (v - round(v)) ^ 2
                <= (u - floor(u) - 0.5) ^ 2 + 3 * (v - floor(v) - 0.5) ^ 2
            then round(u) else floor(u) + 0.5 end as cell_u,
        case when (u - round(u)) ^ 2 + 3 * (v - round(v)) ^ 2
                <= (u - floor(u) - 0.5) ^ 2 + 3 * (v - floor(v) - 0.5) ^ 2
            then round(v) else floor(v) + 0.5 end as cell_v
    from scaled
),

final as (
    select
        any_value(width) as width,
        cell_u * any_value(width) as easting,
        cell_v * any_value(width) * sqrt(3) as northing,
        count(*) >= $min_households as is_shown,
        case when count(*) >= $min_households then count(*) end as households,
        case when count(*) >= $min_households
            then count(*) filter (where in_cohort) end as families
    from cells
    group by cell_u, cell_v
)

select * from final
order by northing, easting
