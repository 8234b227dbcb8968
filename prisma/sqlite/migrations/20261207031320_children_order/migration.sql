-- DropIndex
DROP INDEX "tokens_parent_key_idx";

-- CreateIndex
CREATE INDEX "tokens_parent_key_created_at_key_idx" ON "tokens"("parent_key", "created_at", "key");
