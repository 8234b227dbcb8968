-- AlterTable
ALTER TABLE "token_change_history" ADD COLUMN "tx_id" BIGINT;

-- CreateIndex
CREATE INDEX "token_change_history_tx_id_id_idx" ON "token_change_history"("tx_id", "id");
