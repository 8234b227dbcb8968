-- SQLite keeps Prisma enums as TEXT, so the token_type and token_change enums
-- change nothing here; the migration exists so both engines' folders name the
-- same migrations.
SELECT 1;
