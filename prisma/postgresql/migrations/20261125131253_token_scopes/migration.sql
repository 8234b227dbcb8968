-- CreateTable
CREATE TABLE "token_scopes" (
    "token_key" TEXT NOT NULL,
    "scope" TEXT NOT NULL,

    CONSTRAINT "token_scopes_pkey" PRIMARY KEY ("token_key","scope")
);

-- CreateIndex
CREATE INDEX "token_scopes_scope_idx" ON "token_scopes"("scope");

-- AddForeignKey
ALTER TABLE "token_scopes" ADD CONSTRAINT "token_scopes_token_key_fkey" FOREIGN KEY ("token_key") REFERENCES "tokens"("key") ON DELETE CASCADE ON UPDATE CASCADE;


-- Backfill: a row for each scope of each existing token.
INSERT INTO "token_scopes" ("token_key", "scope")
SELECT DISTINCT "tokens"."key", "scope"."value"
FROM "tokens" CROSS JOIN LATERAL jsonb_array_elements_text("tokens"."scopes") AS "scope"("value");
