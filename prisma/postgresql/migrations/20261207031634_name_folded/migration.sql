-- AlterTable: binary collation, so that comparisons and the NAME order are
-- code-point order as on SQLite, whatever the database's locale.
ALTER TABLE "tokens" ADD COLUMN     "name_folded" TEXT COLLATE "C";

-- Backfill: as foldName writes it (lower() follows the database's locale here).
UPDATE "tokens" SET "name_folded" = replace(replace(replace(lower("name"), '%', chr(1)), '_', chr(2)), '\', chr(3)) WHERE "name" IS NOT NULL;
