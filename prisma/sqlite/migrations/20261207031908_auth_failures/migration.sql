-- CreateTable
CREATE TABLE "auth_failure_windows" (
    "address" TEXT NOT NULL PRIMARY KEY,
    "window_start" DATETIME NOT NULL,
    "failures" INTEGER NOT NULL
);

-- CreateIndex
CREATE INDEX "auth_failure_windows_window_start_idx" ON "auth_failure_windows"("window_start");
