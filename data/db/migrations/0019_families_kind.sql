-- 0019 (issue 11 point 13): families a head would call similar.
-- GIAS's AdmissionsPolicy (name): Selective / Non-selective / Not applicable / Not collected, as GIAS words it.
ALTER TABLE establishments ADD COLUMN admissions_policy VARCHAR;
-- The kind of school within its phase (metrics.families.school_kind): a family holds one kind unless asked.
ALTER TABLE school_context ADD COLUMN kind VARCHAR;
ALTER TABLE context_by_year ADD COLUMN kind VARCHAR;
-- The similarity score beside the distance (1 = identical context; metrics.families.similarity).
ALTER TABLE families ADD COLUMN similarity DOUBLE;
ALTER TABLE family_by_year ADD COLUMN similarity DOUBLE;
