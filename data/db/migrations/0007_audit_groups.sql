-- 0007: each audit entry names the group whose data it changed (NULL for store-wide changes such as settings
-- and admin accounts), so a group's leaders can read the history of their own group and no other.
ALTER TABLE audit_log ADD COLUMN group_id INTEGER;

-- entries written before this migration: find the group from what they changed
UPDATE audit_log SET group_id = TRY_CAST(split_part(entity_id, ':', 2) AS INTEGER)
WHERE entity IN ('target', 'scorecard_measures') AND split_part(entity_id, ':', 1) = 'group';
UPDATE audit_log SET group_id = TRY_CAST(entity_id AS INTEGER) WHERE entity IN ('group', 'membership');
UPDATE audit_log SET group_id = l.owner_group_id FROM local_measures l
WHERE audit_log.entity IN ('local_measure', 'local_values') AND l.measure_id = audit_log.entity_id;
UPDATE audit_log SET group_id = r.group_id FROM support_records r
WHERE audit_log.entity = 'support' AND CAST(r.support_id AS VARCHAR) = audit_log.entity_id;
UPDATE audit_log SET group_id = p.group_id FROM publications p
WHERE audit_log.entity = 'publication' AND CAST(p.publication_id AS VARCHAR) = audit_log.entity_id;
UPDATE audit_log SET group_id = a.group_id FROM accounts a
WHERE audit_log.entity = 'account' AND a.email = audit_log.entity_id;
