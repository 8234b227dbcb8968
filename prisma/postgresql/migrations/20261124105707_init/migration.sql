-- CreateTable
CREATE TABLE "tokens" (
    "key" TEXT NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "generator_id" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "token_type" TEXT NOT NULL,
    "name" TEXT,
    "active_name" TEXT,
    "scopes" JSONB NOT NULL,
    "service" TEXT,
    "parent_key" TEXT,
    "note" TEXT NOT NULL DEFAULT '',
    "policy" JSONB NOT NULL,
    "metadata" JSONB NOT NULL,
    "auto_generated" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMP(3),
    "expires_at" TIMESTAMP(3),
    "valid" BOOLEAN NOT NULL DEFAULT true,
    "invalidated_at" TIMESTAMP(3),
    "invalid_reason" TEXT NOT NULL DEFAULT '',

    CONSTRAINT "tokens_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "token_change_history" (
    "id" SERIAL NOT NULL,
    "token" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "token_type" TEXT NOT NULL,
    "token_name" TEXT,
    "parent" TEXT,
    "scopes" JSONB NOT NULL,
    "service" TEXT,
    "expires" TIMESTAMP(3),
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "old_token_name" TEXT,
    "old_scopes" JSONB,
    "old_expires" TIMESTAMP(3),
    "ip_address" TEXT,
    "ip_key" TEXT,
    "event_time" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "token_change_history_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "tokens_secret_hash_key" ON "tokens"("secret_hash");

-- CreateIndex
CREATE INDEX "tokens_username_created_at_idx" ON "tokens"("username", "created_at");

-- CreateIndex
CREATE INDEX "tokens_parent_key_idx" ON "tokens"("parent_key");

-- CreateIndex
CREATE INDEX "tokens_expires_at_idx" ON "tokens"("expires_at");

-- CreateIndex
CREATE UNIQUE INDEX "tokens_username_active_name_key" ON "tokens"("username", "active_name");

-- CreateIndex
CREATE INDEX "token_change_history_event_time_id_idx" ON "token_change_history"("event_time", "id");

-- CreateIndex
CREATE INDEX "token_change_history_username_event_time_idx" ON "token_change_history"("username", "event_time");

-- CreateIndex
CREATE INDEX "token_change_history_actor_event_time_idx" ON "token_change_history"("actor", "event_time");

-- CreateIndex
CREATE INDEX "token_change_history_token_idx" ON "token_change_history"("token");

-- CreateIndex
CREATE INDEX "token_change_history_parent_idx" ON "token_change_history"("parent");

-- CreateIndex
CREATE INDEX "token_change_history_ip_key_idx" ON "token_change_history"("ip_key");

-- AddForeignKey
ALTER TABLE "tokens" ADD CONSTRAINT "tokens_parent_key_fkey" FOREIGN KEY ("parent_key") REFERENCES "tokens"("key") ON DELETE RESTRICT ON UPDATE CASCADE;
