-- Placeholder for the ownership helper's step 9 (versions run without gaps);
-- replaced by that step when both branches meet.
CREATE TABLE placeholder_0009 (id INTEGER PRIMARY KEY);
DROP TABLE placeholder_0009;
