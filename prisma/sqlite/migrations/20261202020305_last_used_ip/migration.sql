-- AlterTable
ALTER TABLE "tokens" ADD COLUMN "last_used_ip" TEXT;
