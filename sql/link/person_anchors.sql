-- person_anchors: one row per linked person (a cluster of records) with the text that
-- orders clusters wherever an order is needed and nothing better decides (new ids are
-- numbered in it; a tie between two clusters goes to the first): its smallest source
-- identifier, or failing one its smallest name and date of birth. The same records give
-- the same anchor in every run.
with final as (
    select
        c.cluster_id,
        coalesce(
            min(k.key_type || ':' || k.key_value),
            min(concat_ws(':', 'name', r.surname_std, r.forename_std, r.date_of_birth,
                r.record_id))
        ) as anchor
    from link_clusters as c
    join std_person_records as r using (record_id)
    left join std_person_keys as k using (record_id)
    group by c.cluster_id
)

select * from final
