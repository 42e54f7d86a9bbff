-- Argo CD health check for videodl.dev/VideoDownload.
-- Install: argocd-cm data key `resource.customizations.health.videodl.dev_VideoDownload`.
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
  hs.message = "Waiting for the operator to observe generation " .. obj.metadata.generation
  return hs
end

local phase = status.phase
local ready = condition(status, "Ready")
local stalled = condition(status, "Stalled")

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
  -- Suspended by its owner, or held back by an open circuit breaker: paused, not broken.
  hs.status = "Suspended"
  hs.message = (ready ~= nil and ready.message) or phase
else
  hs.status = "Progressing"
  local percent = status.progress ~= nil and status.progress.percent or nil
  if percent ~= nil then
    hs.message = phase .. " (" .. tostring(percent) .. "%)"
  else
    hs.message = (ready ~= nil and ready.message) or phase
  end
end
return hs
