-- CreateTable
CREATE TABLE "token_scopes" (
    "token_key" TEXT NOT NULL,
    "scope" TEXT NOT NULL,

    PRIMARY KEY ("token_key", "scope"),
    CONSTRAINT "token_scopes_token_key_fkey" FOREIGN KEY ("token_key") REFERENCES "tokens" ("key") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "token_scopes_scope_idx" ON "token_scopes"("scope");

-- Backfill: a row for each scope of each existing token.
INSERT INTO "token_scopes" ("token_key", "scope")
SELECT DISTINCT "tokens"."key", "scope"."value"
FROM "tokens", json_each("tokens"."scopes") AS "scope";
