-- CreateEnum
CREATE TYPE "token_type" AS ENUM ('session', 'user', 'notebook', 'internal', 'service');

-- CreateEnum
CREATE TYPE "token_change" AS ENUM ('create', 'revoke', 'expire', 'edit');

-- AlterTable: converted in place (the engine's diff drops and re-adds the
-- columns, which would lose every row's value).
ALTER TABLE "token_change_history"
  ALTER COLUMN "token_type" TYPE "token_type" USING "token_type"::"token_type",
  ALTER COLUMN "action" TYPE "token_change" USING "action"::"token_change";

-- AlterTable
ALTER TABLE "tokens"
  ALTER COLUMN "token_type" TYPE "token_type" USING "token_type"::"token_type";
