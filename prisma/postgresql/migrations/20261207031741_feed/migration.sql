-- AlterTable
ALTER TABLE "token_change_history" ADD COLUMN     "tx_id" BIGINT;

-- CreateIndex
CREATE INDEX "token_change_history_tx_id_id_idx" ON "token_change_history"("tx_id", "id");

-- The live feed (src/feed/) reads history in commit order. Ids and event times
-- are assigned before commit, so concurrent transactions commit out of id
-- order; the writing transaction's id lets the feed read only what every
-- transaction below a horizon has finished (pg_snapshot_xmin). Written by a
-- trigger, so that every writer (Prisma, the hot path, bulk SQL, the CLI, other
-- processes) sets it. Prisma's diff ignores triggers: these exist here only.
CREATE FUNCTION "token_change_history_set_tx_id"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW."tx_id" := pg_current_xact_id()::text::bigint;
  RETURN NEW;
END;
$$;

CREATE TRIGGER "token_change_history_tx_id"
  BEFORE INSERT ON "token_change_history"
  FOR EACH ROW EXECUTE FUNCTION "token_change_history_set_tx_id"();

-- Wakes every process's feed reader; NOTIFY is delivered at commit (and not at all on rollback).
CREATE FUNCTION "token_change_history_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('tessera_history', '');
  RETURN NULL;
END;
$$;

CREATE TRIGGER "token_change_history_notify"
  AFTER INSERT ON "token_change_history"
  FOR EACH STATEMENT EXECUTE FUNCTION "token_change_history_notify"();
