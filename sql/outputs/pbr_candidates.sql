-- pbr_candidates.csv: one row per attached family and payment-by-results result, with
-- whether it can be claimed now and the evidence for it.
select
    family_id, result, status, window_start, window_end, evidence, missing, value,
    attached_date
from pbr_candidates
order by family_id, result
