SELECT
  DATEADD(
    DAY,
    -(
      DAYOFWEEKISO(orders.created_at) + 6 - 0
    ) % 7,
    CAST(orders.created_at AS DATE)
  ) AS "created_at_week",
  COUNT(orders.id) AS "orders.count"
FROM gnomon_semantic_test.orders AS orders
GROUP BY
  DATEADD(
    DAY,
    -(
      DAYOFWEEKISO(orders.created_at) + 6 - 0
    ) % 7,
    CAST(orders.created_at AS DATE)
  )
ORDER BY
  "orders.count" DESC NULLS LAST
LIMIT 10
