-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_tokens" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "secret_hash" TEXT NOT NULL,
    "generator_id" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "token_type" TEXT NOT NULL,
    "name" TEXT,
    "active_name" TEXT,
    "scopes" JSONB NOT NULL,
    "service" TEXT,
    "parent_key" TEXT,
    "replaces_key" TEXT,
    "note" TEXT NOT NULL DEFAULT '',
    "policy" JSONB NOT NULL,
    "metadata" JSONB NOT NULL,
    "auto_generated" BOOLEAN NOT NULL DEFAULT false,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_updated_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" DATETIME,
    "expires_at" DATETIME,
    "valid" BOOLEAN NOT NULL DEFAULT true,
    "invalidated_at" DATETIME,
    "invalid_reason" TEXT NOT NULL DEFAULT '',
    "expiry_recorded_at" DATETIME,
    CONSTRAINT "tokens_parent_key_fkey" FOREIGN KEY ("parent_key") REFERENCES "tokens" ("key") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "tokens_replaces_key_fkey" FOREIGN KEY ("replaces_key") REFERENCES "tokens" ("key") ON DELETE RESTRICT ON UPDATE CASCADE
);
INSERT INTO "new_tokens" ("active_name", "auto_generated", "created_at", "expires_at", "generator_id", "invalid_reason", "invalidated_at", "key", "last_updated_at", "last_used_at", "metadata", "name", "note", "parent_key", "policy", "scopes", "secret_hash", "service", "token_type", "username", "valid") SELECT "active_name", "auto_generated", "created_at", "expires_at", "generator_id", "invalid_reason", "invalidated_at", "key", "last_updated_at", "last_used_at", "metadata", "name", "note", "parent_key", "policy", "scopes", "secret_hash", "service", "token_type", "username", "valid" FROM "tokens";
DROP TABLE "tokens";
ALTER TABLE "new_tokens" RENAME TO "tokens";
CREATE UNIQUE INDEX "tokens_secret_hash_key" ON "tokens"("secret_hash");
CREATE UNIQUE INDEX "tokens_replaces_key_key" ON "tokens"("replaces_key");
CREATE INDEX "tokens_username_created_at_idx" ON "tokens"("username", "created_at");
CREATE INDEX "tokens_parent_key_idx" ON "tokens"("parent_key");
CREATE INDEX "tokens_expires_at_expiry_recorded_at_idx" ON "tokens"("expires_at", "expiry_recorded_at");
CREATE UNIQUE INDEX "tokens_username_active_name_key" ON "tokens"("username", "active_name");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
