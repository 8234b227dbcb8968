-- DropIndex
DROP INDEX "tokens_expires_at_idx";

-- AlterTable
ALTER TABLE "tokens" ADD COLUMN     "expiry_recorded_at" TIMESTAMP(3),
ADD COLUMN     "replaces_key" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "tokens_replaces_key_key" ON "tokens"("replaces_key");

-- CreateIndex
CREATE INDEX "tokens_expires_at_expiry_recorded_at_idx" ON "tokens"("expires_at", "expiry_recorded_at");

-- AddForeignKey
ALTER TABLE "tokens" ADD CONSTRAINT "tokens_replaces_key_fkey" FOREIGN KEY ("replaces_key") REFERENCES "tokens"("key") ON DELETE RESTRICT ON UPDATE CASCADE;
