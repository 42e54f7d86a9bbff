-- Argo CD health check for videodl.dev/VideoDownload, the videodl operator's downloads.
-- Lua 5.1 (gopher-lua), base/table/string libraries only; `obj` is the object, the returned
-- table its health. Install: argocd-cm key `resource.customizations.health.videodl.dev_VideoDownload`.
local hs = { status = "Progressing", message = "Waiting for the videodl operator" }

local function condition(status, kind)
  if status.conditions == nil then return nil end
  for _, c in ipairs(status.conditions) do
    if c.type == kind then return c end
  end
  return nil
end

if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  hs.message = "Deleting"
  return hs
end
if obj.status == nil or obj.status.phase == nil then
  return hs
end

local status = obj.status
-- A status written for an older spec says nothing about the current one.
if status.observedGeneration ~= nil and obj.metadata.generation ~= nil
    and status.observedGeneration < obj.metadata.generation then
  hs.message = "Waiting for the operator to observe generation " .. tostring(obj.metadata.generation)
  return hs
end

local phase = status.phase
local ready = condition(status, "Ready")
local stalled = condition(status, "Stalled")
local summary = (ready ~= nil and ready.message) or phase

if phase == "Succeeded" and ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message or "Downloaded"
elseif phase == "Failed" or (stalled ~= nil and stalled.status == "True") then
  hs.status = "Degraded"
  if status.lastFailure ~= nil then
    hs.message = (status.lastFailure.reason or "Failed") .. ": " .. (status.lastFailure.message or "")
  elseif stalled ~= nil and stalled.message ~= nil then
    hs.message = stalled.message
  else
    hs.message = "Failed"
  end
elseif phase == "Suspended" or phase == "Blocked" then
  -- Suspended by its owner, or held back (an open circuit breaker, a missing claim or
  -- Secret): paused, not broken. Ready's message says what holds it.
  hs.status = "Suspended"
  hs.message = summary
else
  hs.status = "Progressing"
  -- Only a running attempt's progress is current; a backoff keeps the failed attempt's.
  local percent = nil
  if phase == "Running" and status.progress ~= nil then percent = status.progress.percent end
  if percent ~= nil then
    hs.message = phase .. " (" .. tostring(percent) .. "%)"
  else
    hs.message = summary
  end
end
return hs
