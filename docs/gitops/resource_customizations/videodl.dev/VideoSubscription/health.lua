-- Argo CD health check for videodl.dev/VideoSubscription, the videodl operator's subscriptions.
-- Lua 5.1 (gopher-lua), base/table/string libraries only; `obj` is the object, the returned
-- table its health. Install: argocd-cm key `resource.customizations.health.videodl.dev_VideoSubscription`.
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
if status.observedGeneration ~= nil and obj.metadata.generation ~= nil
    and status.observedGeneration < obj.metadata.generation then
  hs.message = "Waiting for the operator to observe generation " .. tostring(obj.metadata.generation)
  return hs
end

local phase = status.phase
local ready = condition(status, "Ready")
local stalled = condition(status, "Stalled")
local summary = (ready ~= nil and ready.message) or phase

if (phase == "Scheduled" or phase == "Scanning") and ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  if phase == "Scanning" and status.active ~= nil then
    hs.message = "Scanning (" .. status.active .. ")"
  else
    hs.message = summary
  end
elseif phase == "Failed" or (stalled ~= nil and stalled.status == "True") then
  hs.status = "Degraded"
  hs.message = (stalled ~= nil and stalled.message) or "Failed"
elseif phase == "Suspended" then
  hs.status = "Suspended"
  hs.message = summary
else
  hs.status = "Progressing"
  hs.message = summary
end
return hs
