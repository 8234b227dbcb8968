-- AlterTable
ALTER TABLE "tokens" ADD COLUMN "name_folded" TEXT;

-- Backfill: as foldName writes it, but SQLite's lower() folds ASCII letters only,
-- so a name written before this migration with other capitals (É) is found by
-- its lowercase spelling once it is next renamed.
UPDATE "tokens" SET "name_folded" = replace(replace(replace(lower("name"), '%', char(1)), '_', char(2)), '\', char(3)) WHERE "name" IS NOT NULL;
