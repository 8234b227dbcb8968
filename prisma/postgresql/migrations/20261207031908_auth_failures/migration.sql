-- CreateTable
CREATE TABLE "auth_failure_windows" (
    "address" TEXT NOT NULL,
    "window_start" TIMESTAMP(3) NOT NULL,
    "failures" INTEGER NOT NULL,

    CONSTRAINT "auth_failure_windows_pkey" PRIMARY KEY ("address")
);

-- CreateIndex
CREATE INDEX "auth_failure_windows_window_start_idx" ON "auth_failure_windows"("window_start");
